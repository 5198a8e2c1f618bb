"""Image operations on mattes: compositing and foreground colours, edge adjustments, guided upsampling."""
