"""Program search: representation, mutation, fitting, selection, the driver and the CLI."""
