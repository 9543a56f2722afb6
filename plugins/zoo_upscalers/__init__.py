"""Built-in zoo upscalers plugin."""
