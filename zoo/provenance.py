"""Where a result came from: the resolved recipe with zoo's, JAX's and every plugin's version."""

from __future__ import annotations

from typing import Any

import jax

from zoo.recipe import Recipe


def recipe_payload(recipe: Recipe) -> dict[str, Any]:
    """The resolved recipe with the zoo version and every plugin's distribution and version."""
    import zoo
    from zoo.listing import plugin_listing

    return {
        "recipe": recipe.model_dump(mode="json"),
        "zoo_version": zoo.__version__,
        "plugins": {
            item["name"]: {"distribution": item["distribution"], "version": item["version"]}
            for item in plugin_listing()
        },
        "jax_version": jax.__version__,
    }
