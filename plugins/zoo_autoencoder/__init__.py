"""Built-in zoo autoencoder plugin."""
