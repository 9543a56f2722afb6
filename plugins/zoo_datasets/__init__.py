"""Built-in zoo datasets plugin."""
