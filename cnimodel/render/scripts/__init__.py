"""Apply scripts: ``ip -batch`` and ``bridge -batch`` input and systemd-networkd files for Linux nodes, PowerShell
for Windows nodes, cloud CLI lines, Terraform and Bicep for the cloud route table (docs/routes.md). Each
renders an apply script of ``cnimodel.apply`` and decides nothing."""
