from gripcode.cli.main import main

main()
