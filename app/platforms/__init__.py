"""One connector per platform, behind the interface in `base`; pure requests, no Qt, no SQL."""
