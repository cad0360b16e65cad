from zhidu.cli import app

app()
