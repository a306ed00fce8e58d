"""Test doubles shared by the whole suite (loopback servers, fake models)."""
