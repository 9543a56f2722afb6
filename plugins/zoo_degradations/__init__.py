"""Built-in zoo degradations plugin."""
