"""Operations tooling; `ops.training` is the offline (Python) training side of ranking."""
