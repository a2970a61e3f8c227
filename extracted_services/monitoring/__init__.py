"""The monitoring service: a nameko worker that compares live predictions with the serving
model's training reference and raises ``drift_detected`` once per drift episode."""
