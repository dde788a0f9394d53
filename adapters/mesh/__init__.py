"""MESH: local-authority upload files, FileResponses and notifications, and the mailbox."""
