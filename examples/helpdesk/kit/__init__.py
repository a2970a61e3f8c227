"""What the helpdesk team wrote to migrate with the kit: its topology, phase files, pact,
load scenario, and the three small hooks the topology names (provider states, traffic, a
pre-step). Only this package imports the kit; the helpdesk's deployables never do."""
