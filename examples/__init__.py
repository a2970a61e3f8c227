"""Systems that ship with the docs, to try the kit on something that is not its own."""
