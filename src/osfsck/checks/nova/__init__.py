"""NV: Nova against itself and its hypervisors: cells v2 bookkeeping (the API database
against the cell databases), instances without their domain or with a drifted power state,
and instances and builds a lost RPC message left stuck."""
