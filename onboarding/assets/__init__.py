"""Files the deployment commands ship: the license schema, and the solution zip's scripts and templates."""
