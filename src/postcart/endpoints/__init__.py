"""postcart.endpoints"""
