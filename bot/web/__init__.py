"""Thin Flask adapters: each blueprint localises and renders what the engine returns."""
