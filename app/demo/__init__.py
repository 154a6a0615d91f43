"""The built-in demo workspace: a local Mastodon-API server seeded with a brand's customer conversations."""
