"""Networks and their weights: the one config and builder, encoders, safetensors files and cards,
int8 and ONNX copies, and the procedural subjects that calibrate them."""
