"""postcart.reporting"""
