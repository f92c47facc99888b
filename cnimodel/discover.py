"""The plugin settings a plan's manifests carry: config files in ConfigMaps, daemon flags in DaemonSets.

Real plugin configs ship inside ConfigMaps (flannel's ``kube-flannel-cfg``, canal's ``canal-config``) and the
daemons' data-plane flags inside DaemonSets (``flanneld --ip-masq``). When such manifests are part of the plan
and the ClusterPlan does not give the setting itself, it is read from them — with the same reader as a
standalone file — and ``NetworkSpec.sources`` says where each setting came from. Which keys and flags belong to
a plugin is the plugin's declaration (cnimodel.sources); this module only follows them.

A DaemonSet decides whose file a ConfigMap is: one mounted (or referenced through ``configMapKeyRef``) only by
a DaemonSet that runs on Windows nodes holds the Windows nodes' config.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from cnimodel.plan import KubeObject, Plan, Problems
from cnimodel.plan.configtext import read_config_text
from cnimodel.plan.fields import freeze, thaw
from cnimodel.plan.model import ConfigRef
from cnimodel.sources import ConfigKey, Daemon, InstallContext

WINDOWS = "windows"


@dataclass(frozen=True)
class DaemonSetView:
    """What discovery needs of one DaemonSet: the OS its pods run on, the ConfigMaps it uses, its containers."""

    obj: KubeObject
    os: str | None  # "linux", "windows" or None (any)
    configmaps: frozenset[str]  # namespace/name
    containers: tuple[Mapping[str, Any], ...]

    @property
    def label(self) -> str:
        return f"DaemonSet {self.obj.key} in {self.obj.origin.where()}"


def _at(value: Any, *keys: str) -> Any:
    """``value[k1][k2]…``, or None when a level is missing or not a mapping."""
    for k in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(k)
    return value


def daemonsets(plan: Plan) -> list[DaemonSetView]:
    out = []
    for o in plan.objects:
        if o.kind != "DaemonSet":
            continue
        spec = _at(o.body, "spec", "template", "spec")
        if not isinstance(spec, Mapping):
            continue  # (a DaemonSet without a pod template makes no pods: the workload reader warns)
        containers = tuple(c for key in ("initContainers", "containers") for c in spec.get(key) or ()
                           if isinstance(c, Mapping))
        used: set[str] = set()
        for v in spec.get("volumes") or ():
            name = (v.get("configMap") or {}).get("name") if isinstance(v, Mapping) else None
            if isinstance(name, str):
                used.add(f"{o.namespace}/{name}")
        for c in containers:
            for e in c.get("env") or ():
                ref = ((e.get("valueFrom") or {}).get("configMapKeyRef") or {}) if isinstance(e, Mapping) else {}
                if isinstance(ref.get("name"), str):
                    used.add(f"{o.namespace}/{ref['name']}")
            for e in c.get("envFrom") or ():
                ref = (e.get("configMapRef") or {}) if isinstance(e, Mapping) else {}
                if isinstance(ref.get("name"), str):
                    used.add(f"{o.namespace}/{ref['name']}")
        out.append(DaemonSetView(o, _pod_os(spec), frozenset(used), containers))
    return out


def _pod_os(spec: Mapping[str, Any]) -> str | None:
    """The OS a pod template is pinned to by nodeSelector or required node affinity on kubernetes.io/os."""
    for key in ("kubernetes.io/os", "beta.kubernetes.io/os"):
        value = (spec.get("nodeSelector") or {}).get(key)
        if isinstance(value, str):
            return value
    terms = ((((spec.get("affinity") or {}).get("nodeAffinity") or {})
              .get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms") or ())
    for term in terms:
        for expr in (term.get("matchExpressions") or ()) if isinstance(term, Mapping) else ():
            if (isinstance(expr, Mapping) and expr.get("key") in ("kubernetes.io/os", "beta.kubernetes.io/os")
                    and expr.get("operator") == "In" and len(expr.get("values") or ()) == 1):
                return str(expr["values"][0])
    return None


def configmap_data(cm: KubeObject) -> Mapping[str, Any]:
    data = cm.body.get("data")
    return data if isinstance(data, Mapping) else {}


def where(cm: KubeObject, key: str) -> str:
    return f"ConfigMap {cm.key} ({cm.origin.where()})"


def _os_of(cm: KubeObject, key: ConfigKey, sets: list[DaemonSetView]) -> str | None:
    """Whose file a ConfigMap key is: the OS of every DaemonSet using the ConfigMap when they agree on one,
    else the key's own declaration."""
    users = {d.os for d in sets if cm.key in d.configmaps}
    if len(users) == 1 and None not in users:
        return users.pop()
    if users:
        return None
    return key.os


def env_of(container: Mapping[str, Any], configmaps: Mapping[str, KubeObject], namespace: str) -> dict[str, str]:
    """A container's environment with ``configMapKeyRef`` values (and ``envFrom`` ConfigMaps) resolved;
    ``fieldRef``/``secretKeyRef`` values are per pod and left out."""
    env: dict[str, str] = {}
    for e in container.get("envFrom") or ():
        ref = (e.get("configMapRef") or {}) if isinstance(e, Mapping) else {}
        cm = configmaps.get(f"{namespace}/{ref.get('name')}")
        if cm is not None:
            env.update({str(k): str(v) for k, v in configmap_data(cm).items()})
    for e in container.get("env") or ():
        if not isinstance(e, Mapping) or not isinstance(e.get("name"), str):
            continue
        if "value" in e:
            env[e["name"]] = str(e["value"])
            continue
        ref = (e.get("valueFrom") or {}).get("configMapKeyRef") or {}
        cm = configmaps.get(f"{namespace}/{ref.get('name')}")
        if cm is not None and ref.get("key") in configmap_data(cm):
            env[e["name"]] = str(configmap_data(cm)[ref["key"]])
    return env


def _command_line(container: Mapping[str, Any]) -> list[str]:
    return [str(x) for key in ("command", "args") for x in container.get(key) or ()]


def daemon_containers(daemon: Daemon, sets: list[DaemonSetView]) -> Iterator[tuple[DaemonSetView, Mapping[str, Any]]]:
    """The containers that run the plugin's daemon: by binary in the command line, else by image."""
    for d in sets:
        for c in d.containers:
            words = _command_line(c)
            image = str(c.get("image", ""))
            if any(w.rsplit("/", 1)[-1] in daemon.binaries for w in words[:1]) or (
                    not words and any(i in image for i in daemon.images)) or (
                    words and words[0].startswith("-") and any(i in image for i in daemon.images)):
                yield d, c


def parse_flags(words: list[str], daemon: Daemon) -> dict[str, Any]:
    """Go flag syntax (``-f``, ``--f``, ``--f=v``, ``--f v``; a boolean flag takes no separate value):
    the declared flags only, repeatable ones (given twice) as tuples."""
    out: dict[str, Any] = {}
    i = 0
    while i < len(words):
        w = words[i]
        i += 1
        if not w.startswith("-") or w in ("-", "--"):
            continue
        name, eq, value = w.lstrip("-").partition("=")
        if name not in daemon.flags:
            continue
        val: Any
        if name in daemon.bool_flags:
            val = value.lower() not in ("false", "0", "f") if eq else True
        elif eq:
            val = value
        elif i < len(words):
            val, i = words[i], i + 1
        else:
            continue
        if name in out and name not in daemon.bool_flags:
            prev = out[name]
            out[name] = (*prev, val) if isinstance(prev, tuple) else (prev, val)
        else:
            out[name] = val
    return out


def flags_from_env(env: Mapping[str, str], daemon: Daemon) -> dict[str, Any]:
    """Flags the daemon reads from ``<PREFIX>_<FLAG>`` variables (flannel's flagutil.SetFlagsFromEnv)."""
    if not daemon.env_prefix:
        return {}
    out: dict[str, Any] = {}
    for flag in daemon.flags:
        name = f"{daemon.env_prefix}_{flag.upper().replace('-', '_')}"
        value = env.get(name)
        if value is None or value == "":
            continue
        out[flag] = value.lower() in ("true", "1", "t") if flag in daemon.bool_flags else value
    return out


def read_key(cm: KubeObject, key: ConfigKey, plan: Plan, env: Mapping[str, str],
             problems: Problems) -> tuple[dict[str, Any] | None, list[str]]:
    """One ConfigMap key as the plugin's file: parsed, install-time placeholders filled as the installer fills
    them; the notes say what was filled (placeholders nothing fills are reported)."""
    text = configmap_data(cm).get(key.key)
    origin = cm.origin.at(f"data.{key.key}")
    if not isinstance(text, str):
        problems.error(origin, f"expected the text of {key.key}, found {type(text).__name__}",
                       f"write {key.key} as a string (a YAML block: `{key.key}: |`)")
        return None, []
    read = read_config_text(text, origin, problems, key.key)
    if read.data is None:
        return None, []
    data, notes = read.data, []
    if key.installer is not None:
        context = InstallContext(str(plan.cluster_cidr) if plan.cluster_cidr else None,
                                 str(plan.service_cidr) if plan.service_cidr else None,
                                 MappingProxyType({str(k): str(v) for k, v in configmap_data(cm).items()}),
                                 MappingProxyType(dict(env)))
        data, fills = key.installer(data, read.placeholders, context)
        notes = [f"{f.token} → {f.value!r} ({f.how})" for f in fills]
        filled = {f.token for f in fills}
        left = [p for p in read.placeholders if p.token not in filled]
    else:
        left = list(read.placeholders)
    by = key.installed_by or "the installer that writes this file on each node"
    for p in left:
        at = origin.at(p.path) if p.path else origin
        problems.warn(at, f"{p.token} is an install-time placeholder ({by} fills it on the node); the model "
                      "reads it as the literal text", "nothing to do if the installer runs; set the value in "
                      "the plan to model what it writes")
    return data, notes


def resolve_ref(ref: ConfigRef, keys: tuple[ConfigKey, ...], problems: Problems) -> tuple[KubeObject, ConfigKey] | None:
    """The ConfigMap key a ``configFile: manifest[#pick]`` field means, or an error naming the candidates."""
    found = [(cm, k) for cm in ref.configmaps for k in keys if k.key in configmap_data(cm)]
    if ref.fragment:
        ns_name, _, key = ref.fragment.rpartition("/")
        found = [(cm, k) for cm, k in found if k.key == key and (not ns_name or ns_name in (cm.key, cm.name))]
    if len(found) == 1:
        return found[0]
    wanted = ", ".join(k.key for k in keys)
    listed = "; ".join(f"{cm.key} key {k.key}" for cm, k in found) or "; ".join(
        f"{cm.key} (keys: {', '.join(configmap_data(cm)) or 'none'})" for cm in ref.configmaps)
    if not found:
        problems.error(ref.origin, f"{ref.file} holds no ConfigMap key this field reads ({wanted}); it holds "
                       f"{listed}", f"point at the key with #NAMESPACE/NAME/KEY (e.g. {ref.file}#"
                       f"{ref.configmaps[0].key}/{keys[0].key}) or at the config file itself")
    else:
        problems.error(ref.origin, f"{ref.file} holds {len(found)} candidates: {listed}",
                       f"pick one with #NAMESPACE/NAME/KEY, e.g. {ref.file}#{found[0][0].key}/{found[0][1].key}")
    return None


NETWORK_FIELDS = {"config": "config", "cni": "cni", "windowsConfig": "windows_config"}


def complete(plan: Plan) -> Plan:
    """The plan with the plugin settings its manifests carry; idempotent (settings the plan gives win).
    Raises PlanError when a setting cannot be read (a broken ConfigMap key, an ambiguous manifest)."""
    from cnimodel.plugin import NetworkPlugin, PolicyPlugin, load_plugin

    if plan.network is None or plan.network.discovered:
        return plan
    problems = Problems()
    sets = daemonsets(plan)
    configmaps = {o.key: o for o in plan.objects if o.kind == "ConfigMap"}
    try:
        network_cls = load_plugin(plan.network.plugin, NetworkPlugin)
    except KeyError:
        return plan  # Cluster.build names the unknown plugin
    network = network_cls.settle(
        _network(plan, network_cls.config_keys, network_cls.daemon, sets, configmaps, problems), problems)
    policy = plan.policy
    if policy.plugin:
        try:
            policy_cls = load_plugin(policy.plugin, PolicyPlugin)
        except KeyError:
            policy_cls = None
        if policy_cls is not None and policy_cls.daemon is not None:
            policy = _policy(plan, policy_cls.daemon, sets, configmaps)
    problems.raise_if_errors()
    return replace(plan, network=network, policy=policy, warnings=plan.warnings + tuple(problems.warnings))


def _network(plan: Plan, keys: tuple[ConfigKey, ...], daemon: Daemon | None, sets: list[DaemonSetView],
             configmaps: dict[str, KubeObject], problems: Problems) -> Any:
    net = plan.network
    assert net is not None
    values: dict[str, Any] = {"config": net.config or None, "cni": net.cni, "windows_config": net.windows_config,
                              "windows_cni": net.windows_cni}
    given = {f for f, v in values.items() if v}
    sources = list(net.sources)
    for name, ref in net.refs.items():
        target = NETWORK_FIELDS[name]
        hit = resolve_ref(ref, tuple(k for k in keys if k.field == target.removeprefix("windows_")), problems)
        if hit is not None:
            cm, key = hit
            data, notes = read_key(cm, key, plan, _installer_env(cm, sets, configmaps), problems)
            if data is not None:
                values[target] = {**data, **thaw(values[target] or {})} if target.endswith("config") else data
                given.add(target)
                sources.append((target, _told(key, cm, notes)))
    found: dict[str, tuple[KubeObject, ConfigKey]] = {}
    for key in keys:
        for cm in configmaps.values():
            if key.key not in configmap_data(cm):
                continue
            target = f"windows_{key.field}" if _os_of(cm, key, sets) == WINDOWS else key.field
            if target in found and found[target][0] is not cm:
                first, first_key = found[target]
                problems.error(cm.origin.at(f"data.{key.key}"), f"two ConfigMaps hold the network {target}: "
                               f"{first.key} key {first_key.key} ({first.origin.where()}) and {cm.key} key {key.key}",
                               "name the one to use in the ClusterPlan: spec.network.configFile: "
                               "MANIFEST#NAMESPACE/NAME/KEY (or leave the other manifest out)")
                continue
            found.setdefault(target, (cm, key))
    for target, (cm, key) in found.items():
        if target in given:  # the plan's own setting wins; say so when the manifest's differs
            data, _ = read_key(cm, key, plan, _installer_env(cm, sets, configmaps), Problems())
            if data is not None and freeze(data) != freeze(thaw(values[target])):
                problems.warn(cm.origin.at(f"data.{key.key}"), f"the plan's own {target} is used; {key.key} in "
                              f"ConfigMap {cm.key} differs from it", "drop one of the two so they cannot disagree")
            continue
        data, notes = read_key(cm, key, plan, _installer_env(cm, sets, configmaps), problems)
        if data is not None:
            values[target] = data
            sources.append((target, _told(key, cm, notes)))
    args: dict[str, dict[str, Any] | None] = {"linux": None, WINDOWS: None}
    if daemon is not None:
        for d, c, flags in _daemon_flags(daemon, sets, configmaps):
            os_ = WINDOWS if d.os == WINDOWS else "linux"
            args[os_] = {**(args[os_] or {}), **flags}
            shown = " ".join(f"--{k}" if v is True else f"--{k}={_flag_text(v)}" for k, v in flags.items())
            sources.append(("args" if os_ == "linux" else "windows_args",
                            f"{shown or '(no data-plane flags)'} from {d.label} container {c.get('name')}"))
    return replace(net, config=freeze(values["config"] or {}), cni=_frozen(values["cni"]),
                   windows_config=_frozen(values["windows_config"]), windows_cni=_frozen(values["windows_cni"]),
                   args=freeze(args["linux"]) if args["linux"] is not None else net.args,
                   windows_args=freeze(args[WINDOWS]) if args[WINDOWS] is not None else net.windows_args,
                   sources=tuple(sources), discovered=True)


def _policy(plan: Plan, daemon: Daemon, sets: list[DaemonSetView], configmaps: dict[str, KubeObject]) -> Any:
    """A policy plugin's settings from its daemon's environment (calico-node's CALICO_NETWORKING_BACKEND);
    settings the plan gives win."""
    given = dict(thaw(plan.policy.config))
    sources = list(plan.policy.sources)
    for d, c in daemon_containers(daemon, sets):
        env = env_of(c, configmaps, d.obj.namespace or "default")
        new = {k: env[k] for k in daemon.env if k in env and k not in given}
        if new:
            given.update(new)
            sources.append(("config", ", ".join(f"{k}={v}" for k, v in new.items())
                            + f" from {d.label} container {c.get('name')} env"))
    return replace(plan.policy, config=freeze(given), sources=tuple(sources))


def _daemon_flags(daemon: Daemon, sets: list[DaemonSetView], configmaps: dict[str, KubeObject]
                  ) -> Iterator[tuple[DaemonSetView, Mapping[str, Any], dict[str, Any]]]:
    for d, c in daemon_containers(daemon, sets):
        env = env_of(c, configmaps, d.obj.namespace or "default")
        # flanneld-style daemons read FLAG from <PREFIX>_FLAG when the command line does not set it
        yield d, c, {**flags_from_env(env, daemon), **parse_flags(_command_line(c), daemon)}


def _installer_env(cm: KubeObject, sets: list[DaemonSetView], configmaps: dict[str, KubeObject]) -> dict[str, str]:
    """The environment of the containers that use a ConfigMap (the installer reads its values there)."""
    env: dict[str, str] = {}
    for d in sets:
        if cm.key in d.configmaps:
            for c in d.containers:
                env.update(env_of(c, configmaps, d.obj.namespace or "default"))
    return env


def _told(key: ConfigKey, cm: KubeObject, notes: list[str]) -> str:
    text = f"{key.key} from ConfigMap {cm.key} in {cm.origin.where()}"
    if notes:
        text += f"; filled as {key.installed_by or 'its installer'} fills it: " + ", ".join(notes)
    return text


def _flag_text(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)


def _frozen(data: Any) -> Any:
    return None if data is None else freeze(thaw(data))
