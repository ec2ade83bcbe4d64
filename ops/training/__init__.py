"""Offline training pipeline for the multi-domain CTR models served by apps/ranking.

See README.md in this folder and CONTRACT.md (the contract with the TypeScript serving side).
"""
