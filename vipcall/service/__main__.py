from vipcall.service.main import main

raise SystemExit(main())
