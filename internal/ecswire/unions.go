package ecswire

import (
	"reflect"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Reflection cannot list the types that satisfy an interface, so the members
// of the ECS model's unions are named here, one line each; the SDK's
// types.go lists them ("The following types satisfy this interface"). A
// union the list misses fails to encode or decode with an error naming it.
var members = []unionMember{
	member[types.DescribeGatewayConfiguration](&types.DescribeGatewayConfigurationMemberHostSharedAlb{}),
	member[types.GatewayConfiguration](&types.GatewayConfigurationMemberHostSharedAlb{}),
	member[types.GatewayConnectionResources](&types.GatewayConnectionResourcesMemberHostSharedAlb{}),
	member[types.GatewayElbAccessLogDestination](&types.GatewayElbAccessLogDestinationMemberS3{}),
	member[types.GatewayInfrastructureResources](&types.GatewayInfrastructureResourcesMemberHostSharedAlb{}),
	member[types.GatewayRouteResources](&types.GatewayRouteResourcesMemberHostSharedAlb{}),
	member[types.ServiceConnectContainerConfiguration](&types.ServiceConnectContainerConfigurationMemberLogLevel{}),
	member[types.SharingStrategy](&types.SharingStrategyMemberNvidiaMps{}),
	member[types.UpdateGatewayConfiguration](&types.UpdateGatewayConfigurationMemberHostSharedAlb{}),
}

// unionMember is one member of a union: the SDK names the Go type
// <Union>Member<Name> and holds the member's value in its field Value.
type unionMember struct {
	union reflect.Type // the interface
	name  string       // the wire name
	typ   reflect.Type // a pointer to the member struct
}

// member describes m, a member of union U; the type parameter makes the
// compiler check that m satisfies U.
func member[U any](m U) unionMember {
	typ := reflect.TypeOf(m)
	_, name, _ := strings.Cut(typ.Elem().Name(), "Member")
	return unionMember{union: reflect.TypeFor[U](), name: memberName(name), typ: typ}
}

var (
	memberByType = map[reflect.Type]unionMember{}
	unionMembers = map[reflect.Type]map[string]reflect.Type{}
)

func init() {
	for _, m := range members {
		memberByType[m.typ] = m
		if unionMembers[m.union] == nil {
			unionMembers[m.union] = map[string]reflect.Type{}
		}
		unionMembers[m.union][m.name] = m.typ
	}
}
