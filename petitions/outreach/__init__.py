"""Outreach to signers after they signed: updates, the follow-up asking whether offices replied, and their pages."""
