"""postcart.stats"""
