"""Built-in zoo metrics plugin."""
