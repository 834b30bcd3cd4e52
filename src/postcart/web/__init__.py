"""postcart.web"""
