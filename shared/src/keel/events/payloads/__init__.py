"""Typed, versioned payload models of every event (never database tables).

Within a version only additive, optional changes; a breaking change is a new model and version.
"""
