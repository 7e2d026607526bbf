"""Training: what is optimised and scored (task modules, scoring) apart from the loop machinery
(Lightning: devices, checkpoints, logging, distributed)."""
