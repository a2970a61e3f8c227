"""The extracted inference service: scores transactions with the registry's model.

Owns the prediction audit log; produces ``prediction_logged``; consumes ``model_promoted``.
"""
