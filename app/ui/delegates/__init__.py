"""Item delegates that paint list rows."""
