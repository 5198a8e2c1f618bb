"""Training and validation data: real subjects, synthetic subjects, composited samples."""
