"""The helpdesk monolith: one Flask app that files, shows and lists tickets."""
