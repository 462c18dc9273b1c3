"""The Lark grammar of the Julia subset, shipped as package data."""
