"""The capabilities of the monolith as independent services; they never import each other."""
