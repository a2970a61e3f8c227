"""The graded workshop: exercises that start from a known state of the participant's running
kit, and graders that check, against that running system, what the participant did."""
