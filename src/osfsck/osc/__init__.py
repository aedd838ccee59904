"""`openstack fsck ...`: osfsck's commands inside OpenStackClient (the `osc` extra).

`plugin` is the module OpenStackClient imports at every start (entry point
`openstack.cli.extension`), `commands` the command classes it loads for `openstack fsck`
(entry points `openstack.fsck.v1`), `common` what they share with osfsck's own CLI.  Nothing
outside this package imports it, nor osc-lib or cliff (import-linter, pyproject.toml).
"""
