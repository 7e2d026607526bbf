"""The paper's study end to end on the synthetic world (``egot2 demo``): world -> stage I -> caches ->
every method per primary -> EgoT2-g -> evaluation -> results, relations, tables and a report."""
