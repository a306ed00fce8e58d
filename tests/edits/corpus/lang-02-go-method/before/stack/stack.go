package stack

type Stack struct {
	items []int
}

func (s *Stack) Push(x int) {
	s.items = append(s.items, x)
}

func (s *Stack) Pop() int {
	x := s.items[0]
	s.items = s.items[1:]
	return x
}
