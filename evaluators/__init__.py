"""Targets, references, error metrics, cost models, baselines and verification."""
