"""Orchestration: bring a phase up, verify it, apply it step by step, roll back, record."""
