from curbwatch.cli import main

main()
