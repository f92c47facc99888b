"""What every command shares: the consoles, plan inputs, error handling and exit codes.

Exit codes: 0 success, 1 a check failed, 2 bad input, 3 an internal error (a bug to report), 130 interrupted
(Ctrl-C), 141 standard output closed early (``cnimodel … | head``: the reader stopped reading).
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from collections.abc import Callable
from functools import wraps
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

from cnimodel.bulk import frozen_objects
from cnimodel.commands.consoles import ERR, OUT
from cnimodel.plan import PlanError
from cnimodel.plan.errors import Error

if TYPE_CHECKING:
    from cnimodel.cluster import Cluster
    from cnimodel.commands.progress import Progress
    from cnimodel.plan import Plan



EXIT_INTERNAL = 3  # not 1: `check` exits 1 for "errors found", and a CI job must tell a bug from a finding
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C
EXIT_PIPE = 141  # 128 + SIGPIPE, as shells report `… | head` stopping a writer
REPORT = ("this is a bug in cnimodel: please report it to the cnimodel maintainers (the project's issue "
          "tracker) with the command line and the output of the same command run with --debug")


class UsageProblem(Error):
    """Bad input that is not in a plan file (an unknown node name, a malformed address)."""


def _closed_pipe() -> None:
    """The reader of standard output went away: exit quietly, and keep Python's final flush from complaining."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real stdout (tests capture it): nothing to silence
        pass
    sys.exit(EXIT_PIPE)


OUT.on_broken_pipe = _closed_pipe  # type: ignore[method-assign]  (rich's own exits 1, the status of a failed check)


class Interrupted(BaseException):
    """Ctrl-C in the ``cnimodel`` program. Not a KeyboardInterrupt, which click turns into "Aborted!" and exit 1
    when it lands outside a command (while click loads one); code that cleans up catches both."""


def _interrupt(_sig: int, _frame: FrameType | None) -> None:
    raise Interrupted


def ignore_interrupts() -> None:
    """From here on Ctrl-C changes nothing: the work is done and said so. Only in the ``cnimodel`` program
    (run_main's handler installed), not in a process that runs commands in-process."""
    if signal.getsignal(signal.SIGINT) is _interrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


# Past this many objects in the collector's permanent generation (a plan of some 20,000 pods and more, frozen by
# cnimodel.bulk), the program ends without freeing them one by one: the kernel takes the memory back at once.
LARGE = 500_000


# The plans and clusters the ``cnimodel`` program built (None in a process that runs commands in-process): held to
# the end, so that a command returning does not free a large one object by object just before the fast exit.
_HELD: list[object] | None = None


def hold(value: object) -> None:
    """Keep ``value`` (a plan, a cluster, an answer built on them) until the ``cnimodel`` program ends; nothing in
    a process that runs commands in-process."""
    if _HELD is not None:
        _HELD.append(value)


def run_main(group: click.Group) -> None:
    """Run the CLI as the ``cnimodel`` program: interrupts and closed pipes end it with one line (or none)."""
    global _HELD
    _HELD = []
    try:
        _run(group)
    except SystemExit as e:
        if frozen_objects() < LARGE or sys.getprofile() is not None or sys.gettrace() is not None:
            raise  # (a profiler or coverage tracer writes its record as the interpreter ends)
        _exit_now(e.code)


def _exit_now(code: object) -> None:
    """End the process with ``code`` (as SystemExit would) once the output is written, skipping the interpreter's
    teardown: freeing a large plan object by object takes a noticeable part of a second. Nothing of cnimodel
    waits for that teardown (no atexit handler; files and subprocesses are closed by the commands)."""
    if code is not None and not isinstance(code, int):
        ERR.print(str(code), markup=False)
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        code = EXIT_PIPE
    except (OSError, ValueError):
        pass
    os._exit(code or 0)


def _run(group: click.Group) -> None:
    signal.signal(signal.SIGINT, _interrupt)
    try:
        group(prog_name="cnimodel")
    except (KeyboardInterrupt, Interrupted):
        ERR.print("interrupted", markup=False)
        sys.exit(EXIT_INTERRUPTED)
    except BrokenPipeError:
        _closed_pipe()
    finally:  # the work is done (or stopped): an interrupt now would only garble the exit
        while True:
            try:  # the handler can still fire inside signal.signal's own Python code: ignore it and try again
                ignore_interrupts()
                break
            except (KeyboardInterrupt, Interrupted):
                continue


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn PlanError and usage problems into messages and exit code 2; hide tracebacks unless --debug."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = click.get_current_context().find_root().params.get("debug", False)
        try:
            return fn(*args, **kwargs)
        except PlanError as e:
            for p in e.problems + e.warnings:
                ERR.print(p.render(), markup=False)
            ERR.print(f"{len(e.problems)} error(s) in the plan; nothing was computed.", markup=False)
            if debug:
                traceback.print_exc()
            sys.exit(2)
        except UsageProblem as e:
            ERR.print(f"error: {e}", markup=False)
            sys.exit(2)
        except (KeyboardInterrupt, Interrupted):
            if debug:
                raise
            ERR.print("interrupted", markup=False)
            sys.exit(EXIT_INTERRUPTED)
        except BrokenPipeError:
            _closed_pipe()
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise  # click's own usage errors (exit 2) and exits
        except RecursionError:  # input nested past what the readers follow: bad input, not a bug
            ERR.print("error: the input is nested too deeply to be read (a structure inside a structure, "
                      "thousands of levels down)", markup=False)
            ERR.print("    fix: check the file for a runaway nesting; plans and configs are a few levels deep",
                      markup=False)
            sys.exit(2)
        except MemoryError:
            ERR.print("error: out of memory; the plan is larger than this machine can model (docs/limits.md)",
                      markup=False)
            ERR.print("    fix: model fewer nodes, pods or replicas, or run on a machine with more memory",
                      markup=False)
            sys.exit(2)
        except Exception:  # an internal error: say so plainly, keep the traceback for --debug
            if debug:
                raise
            kind, value = sys.exc_info()[:2]
            ERR.print("internal error in cnimodel (run again with --debug for the traceback)", markup=False)
            ERR.print(f"  {kind.__name__}: {value}", markup=False)  # type: ignore[union-attr]
            ERR.print(REPORT, markup=False)
            sys.exit(EXIT_INTERNAL)

    return wrapper


def plan_inputs(fn: Callable[..., Any] | None = None, *, optional: bool = False) -> Any:
    """The PLAN arguments of a command, as kubectl takes manifests: any number of files and folders
    positionally or with ``-f/--filename`` (repeatable), ``-`` for standard input. The command receives
    them joined as ``plan: tuple[str, ...]`` (positional first, then each ``-f`` in order); ``optional``
    lets it receive none."""
    if fn is None:
        return lambda f: plan_inputs(f, optional=optional)

    @wraps(fn)
    def wrapper(*args: Any, plan: tuple[str, ...] = (), filenames: tuple[str, ...] = (),
                recursive: bool = False, **kwargs: Any) -> Any:
        return fn(*args, plan=inputs(plan, filenames, optional), **kwargs)

    wrapper = click.option("-R", "--recursive", is_flag=True, hidden=True,
                           help="Accepted for kubectl's sake: folders are always read recursively.")(wrapper)
    wrapper = click.option("-f", "--filename", "filenames", multiple=True, metavar="PATH",
                           help="A plan file or folder, or - for standard input (repeatable; folders are read "
                           "recursively: .yaml, .yml, .json).")(wrapper)
    return click.argument("plan", nargs=-1, metavar="PLAN...")(wrapper)


def inputs(positional: tuple[str, ...], filenames: tuple[str, ...], optional: bool = False) -> tuple[str, ...]:
    """Every plan input, in the order given; at least one (unless ``optional``), standard input at most once."""
    given = (*positional, *filenames)
    if not given and not optional:
        raise click.UsageError("no plan given: name plan files or folders (or -f PATH, or - for standard "
                               "input), e.g. `cnimodel ipam cluster.yaml manifests/`")
    if given.count("-") > 1:
        raise click.UsageError("standard input (-) can be read once only")
    return given


# Answers a script reads: no progress display beside them, even on a terminal (docs/performance.md, Progress).
MACHINE_OUTPUTS = frozenset({"json", "hns", "sarif"})


def _answer_on_terminal() -> bool:
    return sys.stdout.isatty()


_OWN = "cnimodel.progress.base"  # ctx.meta: the display was made here, not by the command, which then ends it


def _progress() -> Progress | None:
    """The running command's progress display (commands/progress.py), None outside a command."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return None
    from cnimodel.commands import progress

    ctx.meta.setdefault(_OWN, progress.KEY not in ctx.meta)
    return progress.for_command(enabled=ctx.params.get("output") not in MACHINE_OUTPUTS)


def load(plan: tuple[str, ...] | list[str]) -> Plan:
    """The plan every command uses: its inputs read, a dump's ClusterPlan values inferred, the plugin settings
    its manifests carry read in (cnimodel.infer.complete). A large plan's reading shows on the command's progress
    display."""
    from cnimodel.infer import load_complete

    bar = _progress()
    if bar is not None:
        bar.stage("reading the plan")
    try:
        loaded = load_complete(list(plan))
    except PlanError:
        if bar is not None:
            bar.close()  # before the errors: the display leaves nothing behind
        raise
    hold(loaded)
    return loaded


def build(plan: tuple[str, ...] | list[str] | str) -> Cluster:
    """``load``, then the cluster the engines answer on (addresses, routes, the plugins' facts)."""
    from cnimodel.cluster import Cluster

    loaded = load([plan] if isinstance(plan, str) else plan)
    bar = _progress()
    if bar is not None:
        bar.stage("building the cluster")
    try:
        cluster = Cluster.build(loaded)
    except PlanError:
        if bar is not None:
            bar.close()
        raise
    hold(cluster)
    if bar is not None and click.get_current_context().meta.get(_OWN):  # (a command's own display: its stages)
        if _answer_on_terminal():
            bar.close()  # the answer goes to the same terminal: the display must not draw over it
        else:
            bar.stage("computing and writing the answer")
    return cluster


def table_name(cluster: Cluster, name: str) -> str:
    """``underlay`` names the underlay's table whatever the plan calls it (a node of that name wins)."""
    if name == "underlay" and not any(n.name == name for n in cluster.plan.nodes):
        return cluster.plan.underlay.name
    return name


def check_node(cluster: Cluster, name: str, allow_underlay: bool = False) -> None:
    names = {n.name for n in cluster.plan.nodes}
    if name in names or (allow_underlay and name == cluster.plan.underlay.name):
        return
    shown = ", ".join(sorted(names)[:8]) + (" …" if len(names) > 8 else "")
    alias = "" if cluster.plan.underlay.name == "underlay" else " (or `underlay`)"
    extra = f" or the underlay {cluster.plan.underlay.name!r}{alias}" if allow_underlay else ""
    raise UsageProblem(f"no node named {name!r} in the plan; use one of: {shown}{extra}")


def shown(plan: tuple[str, ...]) -> str:
    """The plan inputs as a user would type them again (for messages such as 'check it with …')."""
    return " ".join(plan)
