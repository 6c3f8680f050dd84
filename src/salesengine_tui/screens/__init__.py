"""One screen per file. Screens run domain functions in workers and show the results."""
