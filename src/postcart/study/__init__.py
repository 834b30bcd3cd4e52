"""postcart.study"""
