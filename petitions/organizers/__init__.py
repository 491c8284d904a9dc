"""The organizers' side: the admin, its dashboard and exports, the digest of letters that need them."""
