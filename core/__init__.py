"""What every stage shares and nothing in it imports: element types (dtypes.py)."""
