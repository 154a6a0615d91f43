"""Qt item models over the store: lazy, block-cached, fed by fast SQL."""
