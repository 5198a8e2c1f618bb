"""Computing a matte: the predictor, the colour-line solvers, refinement and the allocator settings."""
