"""The monolith's model: network, training and artifact storage on local disk."""
