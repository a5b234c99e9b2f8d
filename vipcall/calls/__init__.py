"""Call flows: short async scripts that execute routing decisions over the ARI façade."""
