"""Signing: the petition page and its form, abuse checks, confirming, withdrawing, and the signer's e-mails."""
